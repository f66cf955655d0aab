from kim_excel.cli import main

main()
